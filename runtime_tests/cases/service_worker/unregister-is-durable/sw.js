self.addEventListener("activate", () => console.log("activated", location.pathname));
