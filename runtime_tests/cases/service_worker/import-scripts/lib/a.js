var fromA = function () {}; console.log("a runs first");
