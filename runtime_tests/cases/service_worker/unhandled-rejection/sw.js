// Unhandled rejections fire `unhandledrejection`; a canceled one is not reported.
self.addEventListener("unhandledrejection", (event) => {
  console.log("unhandledrejection", event.reason.message);
  if (event.reason.message === "handled") event.preventDefault();
});
Promise.reject(new Error("handled"));
