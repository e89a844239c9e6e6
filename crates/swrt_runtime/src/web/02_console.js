// `console`: deno_web's Console formats (%s %d %i %f %o %O %c, object
// inspection); each call reaches the host as one line through an op.
(function () {
const { core } = __bootstrap;
const { nonEnumerable } = core.loadExtScript("ext:swrt/01_web_platform.js");

const consoleModule = core.loadExtScript("ext:deno_web/01_console.js");
const { op_swrt_console } = core.ops;

// Plain text: the host prints to files and pipes as often as to terminals.
consoleModule.setNoColorFns(() => true, () => true);

function createConsole() {
  return new consoleModule.Console((message, level) => {
    op_swrt_console(level, message);
  });
}

function consoleDescriptor() {
  return nonEnumerable(createConsole());
}

const inspect = consoleModule.inspect;

return {
  createConsole,
  consoleDescriptor,
  inspect,
};
})();
