console.log("list.js: readyState", document.readyState, "; episodes:",
  [...document.querySelectorAll("#episodes li")].map((li) => `${li.dataset.id}:${li.textContent}`).join(","));
