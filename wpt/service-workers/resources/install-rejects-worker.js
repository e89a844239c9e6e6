self.addEventListener("install", (e) => e.waitUntil(Promise.reject(new Error("no"))));
