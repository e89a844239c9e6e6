self.addEventListener("backgroundfetchsuccess", (event) => {
  event.waitUntil((async () => {
    const records = await event.registration.matchAll(undefined, { ignoreMethod: true });
    const lines = [];
    for (const record of records) {
      const kind = new URL(record.request.url).searchParams.get("kind");
      const bytes = new Uint8Array(await record.request.arrayBuffer());
      const server = await (await record.responseReady).text();
      const type = record.request.headers.get("content-type") ?? "";
      let detail = "";
      if (kind === "form") {
        const boundary = type.split("boundary=")[1];
        const text = new TextDecoder().decode(bytes);
        detail = ` boundary matches ${text.startsWith("--" + boundary)} has file ${text.includes("file contents")}`;
      } else if (kind === "string" || kind === "params" || kind === "blob") {
        detail = ` text ${new TextDecoder().decode(bytes)}`;
      } else if (kind === "large") {
        detail = ` pattern intact ${bytes.every((b, i) => b === ((i * 13) & 255))}`;
      } else {
        detail = ` bytes ${Array.from(bytes).join(",")}`;
      }
      lines.push(`${kind}: stored ${bytes.length} server saw ${server} type ${type.split(";")[0]}${detail}`);
    }
    for (const line of lines.sort()) console.log(line);
  })());
});
