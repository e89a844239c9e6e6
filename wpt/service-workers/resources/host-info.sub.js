// The run's origins by the names upstream's get_host_info() uses, filled in
// by the server's .sub. substitution (a helper written for swrt; upstream's
// /common/get-host-info.sub.js is not in this tree).
self.swrtHostInfo = {
  HTTP_ORIGIN: "http://{{host}}:{{ports[http][0]}}",
  HTTP_REMOTE_ORIGIN: "http://{{domains[www1]}}:{{ports[http][0]}}",
  HTTPS_ORIGIN: "https://{{host}}:{{ports[https][0]}}",
  HTTPS_REMOTE_ORIGIN: "https://{{domains[www1]}}:{{ports[https][0]}}",
  HTTPS_NOTSAMESITE_ORIGIN: "https://{{hosts[alt][]}}:{{ports[https][0]}}",
  HTTPS_ORIGIN_PORT2: "https://{{host}}:{{ports[https][1]}}",
  // The scheme this file was requested with.
  LOADED_OVER: "{{location[scheme]}}",
};
