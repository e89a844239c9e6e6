self.addEventListener("install", () => {
