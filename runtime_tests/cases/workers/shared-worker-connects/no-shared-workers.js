postMessage(`SharedWorker is ${typeof SharedWorker}, Worker is ${typeof Worker}`);
