self.HELPER_VERSION = "classic v1";
