console.log("deferred.js: readyState:", document.readyState, "; items:", document.querySelectorAll("li").length);
