export const greeting = "hello from a module";
export function double(x) {
  return x * 2;
}
