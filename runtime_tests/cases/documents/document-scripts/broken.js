console.log("never printed");
let = = 3;
