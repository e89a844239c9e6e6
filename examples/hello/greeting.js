function greeting() { return "hello"; }
