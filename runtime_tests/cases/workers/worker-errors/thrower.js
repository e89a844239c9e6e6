setTimeout(() => {
  throw new RangeError("out of range");
}, 0);
