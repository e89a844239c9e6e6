// Evaluation is bounded too.
while (true) {}
