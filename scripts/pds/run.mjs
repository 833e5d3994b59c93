// Starts a local Bluesky PDS and PLC directory (atproto's dev-env, no AppView)
// and keeps them up until SIGTERM or SIGINT. Run by scripts/pds.sh, with the
// packages installed under $LOCAL/pds (NODE_PATH is not needed: the script
// imports them from the folder it is given in PDS_MODULES).
//
// Settings (environment), all set by scripts/pds.sh:
//   PDS_PORT, PLC_PORT         listening ports (127.0.0.1 only)
//   PDS_DATA_DIR               the PDS's SQLite files and blobs, wiped at start:
//                              the PLC directory lives in memory, so DIDs from
//                              a previous run could not be resolved anyway
//   PDS_RATE_LIMITS_ENABLED    "true" turns on the PDS's own rate limits
//   PDS_RATE_LIMIT_BYPASS_KEY  requests with this x-ratelimit-bypass header skip them
//   PDS_MODULES                the folder holding node_modules
import dns from 'node:dns'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { createRequire } from 'node:module'

const env = process.env
const pdsPort = Number(env.PDS_PORT || 2583)
const plcPort = Number(env.PLC_PORT || 2582)
const dataDir = env.PDS_DATA_DIR
const rateLimits = env.PDS_RATE_LIMITS_ENABLED === 'true'
if (!dataDir) throw new Error('PDS_DATA_DIR is required')

// The PDS and PLC servers call listen(port), i.e. every interface. Local
// services bind to loopback only, so a bare-port listen gets 127.0.0.1.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1')
  }
  return listen.apply(this, args)
}
// Their URLs say "localhost"; make it resolve to the address we bind.
dns.setDefaultResultOrder('ipv4first')

const require = createRequire(path.join(env.PDS_MODULES || process.cwd(), 'package.json'))
const { TestNetworkNoAppView } = require('@atproto/dev-env')

await fs.rm(dataDir, { recursive: true, force: true })
await fs.mkdir(path.join(dataDir, 'blobs'), { recursive: true })

const network = await TestNetworkNoAppView.create({
  plc: { port: plcPort },
  pds: {
    port: pdsPort,
    hostname: 'localhost',
    didPlcUrl: `http://127.0.0.1:${plcPort}`,
    dataDirectory: dataDir,
    blobstoreDiskLocation: path.join(dataDir, 'blobs'),
    inviteRequired: false,
    rateLimitsEnabled: rateLimits,
    rateLimitBypassKey: env.PDS_RATE_LIMIT_BYPASS_KEY || undefined,
  },
})
console.log(
  `pds: ready on http://127.0.0.1:${pdsPort} (plc http://127.0.0.1:${plcPort}, rate limits ${rateLimits ? 'on' : 'off'})`,
)

let closing = false
const shutdown = async (signal) => {
  if (closing) return
  closing = true
  console.log(`pds: ${signal}, closing`)
  try {
    await network.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
