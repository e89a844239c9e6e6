const scopes = (await navigator.serviceWorker.getRegistrations()).map((r) => new URL(r.scope).pathname);
console.log("after restart:", JSON.stringify(scopes));
