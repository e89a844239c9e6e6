self.addEventListener("install", () => console.log("install", location.pathname));
