console.log("broken.js must not run");
