var fromC = "c";
