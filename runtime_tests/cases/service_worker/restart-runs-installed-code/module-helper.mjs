export const VERSION = "module v1";
