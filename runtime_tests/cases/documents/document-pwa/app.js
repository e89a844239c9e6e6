console.log("app.js: body is", document.body);
var App = {
  version: 3,
  async start() {
    const registration = await navigator.serviceWorker.register("app/sw.js", { scope: "app/" });
    const worker = registration.installing || registration.waiting || registration.active;
    while (worker.state !== "activated") {
      await new Promise((resolve) => worker.addEventListener("statechange", resolve, { once: true }));
    }
    // The frame loaded before the worker existed: load it again so the
    // worker controls it.
    const frame = document.querySelector("iframe");
    const reloaded = new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
    frame.contentWindow.location.reload();
    await reloaded;
    console.log("page: frame controlled?", frame.contentWindow.navigator.serviceWorker.controller !== null);
    const done = new Promise((resolve) => {
      const channel = new BroadcastChannel("downloads");
      channel.onmessage = (event) => { channel.close(); resolve(event.data); };
    });
    const fetch = await registration.backgroundFetch.fetch("episode-2", ["/episode.txt"], { title: "Episode 2" });
    console.log("page: background fetch", fetch.id, "started");
    const { id, bytes } = await done;
    const item = document.createElement("li");
    item.textContent = `${id} (${bytes} bytes)`;
    document.getElementById("downloads").append(item);
    console.log("page: downloads list:", document.getElementById("downloads").innerHTML);
  },
};
