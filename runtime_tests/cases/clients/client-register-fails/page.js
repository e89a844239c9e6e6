try { await navigator.serviceWorker.register("missing-sw.js"); } catch (e) { console.log(e.name, e.message.includes("missing-sw.js") || e.message); }
try { await navigator.serviceWorker.register("https://other.example/sw.js"); } catch (e) { console.log(e.name); }
