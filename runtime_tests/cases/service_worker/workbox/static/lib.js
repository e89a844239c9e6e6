export const lib = "v1";
