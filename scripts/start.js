// `npm start` will run the offline sandbox (supervisor + bot-api-sim + demo bots). It is not built yet.
console.error('botvisor: the offline sandbox behind `npm start` is not built yet (open issue 8). `npm test` runs the test suite.');
process.exit(1);
