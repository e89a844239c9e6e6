self.asyncRan = true;
