var late = 1;
