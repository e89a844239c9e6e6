console.log("head.js: body is", document.body, "; head has", document.head.children.length, "elements so far");
