function helper(text) { return `${text.toUpperCase()} (via importScripts)`; }
