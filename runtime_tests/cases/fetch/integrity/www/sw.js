// Subresource Integrity on fetch() and on Background Fetch records.
const SHA256 = "sha256-4+c3RIIKcQ8I4idcIYwF+FdHnjByPv+gvRxx7bJfJxU=";
const SHA384 = "sha384-xqlcpel3C7LhdysAD60xdMVw4YqNJG1u9D+YNt3+06youjHI8jLTHUOXabVKddKw";
const SHA512 = "sha512-DvndR1wPIqw2g9DkK9O3RPHhp2tFGPzrRX5aHtByadoktyGGVrEVSVakNlekvFhY6M0dgIK1JucF7XIVtXkAcw==";
const WRONG = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

async function tryFetch(label, integrity) {
  try {
    const r = await fetch("data.txt", { integrity });
    console.log(label, "resolved", JSON.stringify(await r.text()));
  } catch (e) {
    console.log(label, "rejected", e.name);
  }
}

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    await tryFetch("sha256", SHA256);
    await tryFetch("sha384", SHA384);
    await tryFetch("sha512", SHA512);
    await tryFetch("two values", `${WRONG} ${SHA256}`);
    await tryFetch("wrong", WRONG);
    await tryFetch("strongest wins", `${SHA256} sha512-AAAA`);
    await tryFetch("unknown algorithm", "md5-AAAA");
    await registration.backgroundFetch.fetch("ok", [new Request("data.txt", { integrity: SHA384 })]);
  })());
});

async function report(event) {
  const reg = event.registration;
  console.log(event.type, reg.id, reg.result, reg.failureReason);
  for (const record of await reg.matchAll()) {
    try {
      const response = await record.responseReady;
      console.log(" record", record.request.integrity.slice(0, 6), "body", JSON.stringify(await response.text()));
    } catch (e) {
      console.log(" record", record.request.integrity.slice(0, 6), "responseReady", e.name);
    }
  }
  if (reg.id === "ok") {
    await registration.backgroundFetch.fetch("bad", [
      new Request("data.txt", { integrity: WRONG }),
      new Request("data.txt", { integrity: SHA512 }),
    ]);
  }
}
self.addEventListener("backgroundfetchsuccess", (event) => event.waitUntil(report(event)));
self.addEventListener("backgroundfetchfail", (event) => event.waitUntil(report(event)));
