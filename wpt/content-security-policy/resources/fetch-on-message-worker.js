// Fetches the URL it is sent and answers on the port it is sent: "loaded",
// or the name of the error fetch() rejected with.
self.onmessage = async (event) => {
  let result;
  try {
    await fetch(event.data);
    result = "loaded";
  } catch (error) {
    result = error.name;
  }
  event.ports[0].postMessage(result);
};
