// Runs Verdaccio with the configuration file given as the argument, on 127.0.0.1 and a free port, and
// prints `LOCAL_REGISTRY_PORT=<port>` once it listens. SIGTERM closes it.
import { runServer } from 'verdaccio';

const server = await runServer(process.argv[2]);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LOCAL_REGISTRY_PORT=${server.address().port}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
});
