// What a registration says about itself.
export async function report(label, registration) {
  const state = await registration.navigationPreload.getState();
  console.log(`${label}:`, registration.updateViaCache, JSON.stringify(state));
}
