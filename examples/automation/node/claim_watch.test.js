// Tests of a tiny piece of monitoring automation against a simulated routerd world.
//
// Start the world first (any user, no root):
//   routerd serve --backend sim --world examples/worlds/azure.yaml \
//       --socket-dir /tmp/world/run --state-dir /tmp/world/state
// then: ROUTERD_SOCKET_DIR=/tmp/world/run npm test
// The protos are read from ROUTERD_PROTO_DIR (default: this repository's proto/).
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const SOCKETS = process.env.ROUTERD_SOCKET_DIR;
if (!SOCKETS) throw new Error('set ROUTERD_SOCKET_DIR to the --socket-dir of routerd serve --world');
const PROTOS = process.env.ROUTERD_PROTO_DIR || path.join(__dirname, '..', '..', '..', 'proto');

const definition = protoLoader.loadSync(['routerd/v1/claims.proto', 'routerd/v1/sim.proto'], {
  includeDirs: [PROTOS],
  longs: Number,
  defaults: true,
});
const v1 = grpc.loadPackageDefinition(definition).routerd.v1;

const clients = [];
function client(Service, router) {
  const c = new Service(`unix:${SOCKETS}/${router}.sock`, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}
after(() => clients.forEach((c) => c.close()));

function call(stub, method, request) {
  return new Promise((resolve, reject) => {
    stub[method](request, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

// The automation under test: claims a person should look at (every claim not verified).
async function unhealthyClaims(router) {
  const { claims } = await call(client(v1.ClaimService, router), 'listClaims', {});
  return claims.filter((c) => c.state !== 'verified').map((c) => c.name).sort();
}

const sim = client(v1.SimService, 'onprem-router');

test('quiet while every claim is verified', async () => {
  assert.deepEqual(await unhealthyClaims('cloud-router'), []);
  assert.deepEqual(await unhealthyClaims('onprem-router'), []);
});

test('pages while the tunnel is down, and stops when it is back', async () => {
  const fault = await call(sim, 'injectFault', {
    kind: 'link-down',
    params: { host: 'onprem-router', interface: 'wg-sam' },
  });
  try {
    assert.deepEqual(await unhealthyClaims('onprem-router'), ['cloud-vm-21']);
    const trace = await call(sim, 'tracePacket', { sourceHost: 'onprem-vm', destination: '10.40.8.21' });
    assert.equal(trace.delivered, false);
    assert.equal(trace.dropReason, 'interface down');
  } finally {
    await call(sim, 'clearFault', { id: fault.id });
  }
  assert.deepEqual(await unhealthyClaims('onprem-router'), []);
});

test('a bad fault request names the parameter', async () => {
  await assert.rejects(
    call(sim, 'injectFault', { kind: 'route-deleted', params: { router: 'cloud-router' } }),
    (err) => err.code === grpc.status.INVALID_ARGUMENT && err.details.startsWith('address: '),
  );
});

test('a VM moved to the cloud is noticed at once: the provider no longer lists its address on the router', async () => {
  assert.deepEqual(await unhealthyClaims('cloud-router'), []);
  await call(sim, 'moveVm', { vm: 'onprem-vm', segment: 'cloud-fabric' });
  assert.deepEqual(await unhealthyClaims('cloud-router'), ['onprem-vm-31']);
});
