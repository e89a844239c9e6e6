fetch("data.txt").then((response) => response.text()).then(postMessage);
