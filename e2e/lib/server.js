// Starts the real `preuves serve --demo` on a free port of 127.0.0.1 with a fresh data folder,
// and stops it (and removes the folder) at the end.
"use strict";

const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const E2E_DIR = path.resolve(__dirname, "..");
const REPO_DIR = path.resolve(E2E_DIR, "..");

/** The binary under test: `PREUVES_BIN` (relative to e2e/) or the debug build. */
function binary() {
  const bin = path.resolve(E2E_DIR, process.env.PREUVES_BIN || "../target/debug/preuves");
  if (!fs.existsSync(bin)) {
    throw new Error(`binaire introuvable : ${bin} (cargo build -p preuves, ou PREUVES_BIN)`);
  }
  return bin;
}

/** A TCP port free on 127.0.0.1 right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the server; resolves to { url, stop(), log() } once /health/ready answers 200.
 */
async function startServer() {
  const bin = binary();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "preuves-e2e-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    ["serve", "--demo", "--data-dir", dataDir, "--bind", `127.0.0.1:${port}`],
    {
      cwd: REPO_DIR, // --demo reads demo/catalogue/catalogue.toml relative to the repository
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`le serveur s'est arrêté (${JSON.stringify(exited)}) :\n${output}`);
    }
    try {
      const r = await fetch(`${url}/health/ready`);
      if (r.status === 200) {
        break;
      }
    } catch (_) {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      fs.rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`le serveur n'est pas prêt après 60 s :\n${output}`);
    }
    await sleep(100);
  }

  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      for (let i = 0; i < 100 && !exited; i++) {
        await sleep(50);
      }
      if (!exited) {
        child.kill("SIGKILL");
        await sleep(100);
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, stop, log: () => output };
}

/** `preuves simulate` of a demo scenario, parsed (the expected plan). */
function simulate(scenario) {
  const out = execFileSync(
    binary(),
    [
      "simulate",
      "--catalogue",
      "demo/catalogue/catalogue.toml",
      "--scenario",
      `demo/scenarios/${scenario}`,
    ],
    { cwd: REPO_DIR, encoding: "utf8" },
  );
  return JSON.parse(out);
}

module.exports = { startServer, simulate, REPO_DIR, E2E_DIR };
