console.log("extra.js: inserted by script, ran with currentScript", new URL(document.currentScript.src).pathname);
App.start().catch((error) => console.log("page: failed:", error.name, error.message));
