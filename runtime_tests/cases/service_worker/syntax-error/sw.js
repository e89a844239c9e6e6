console.log("never printed");
const broken = ;
