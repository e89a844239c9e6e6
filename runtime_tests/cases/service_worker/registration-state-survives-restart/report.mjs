// What a registration says about itself, and where its worker's router
// sends a controlled frame's requests.
export async function report(label, registration) {
  const state = await registration.navigationPreload.getState();
  console.log(`${label}:`, registration.updateViaCache, JSON.stringify(state));
}

export async function routes() {
  const frame = document.createElement("iframe");
  const loaded = new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
  frame.src = "app/frame.html";
  document.body.append(frame);
  await loaded;
  const text = async (url) => (await frame.contentWindow.fetch(url)).text();
  console.log("routes:", await text("data.txt"), "/", await text("other.txt"));
  frame.remove();
}
