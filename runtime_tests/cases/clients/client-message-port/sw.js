self.addEventListener("message", (e) => {
  console.log("sw got", e.data.type, "with", e.ports.length, "port(s)");
  e.ports[0].postMessage({ from: "sw", structured: new Map([["k", 1]]).size });
  e.ports[0].close();
});
