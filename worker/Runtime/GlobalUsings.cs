// The run-time state types (frontend, backend, server) are the layer every behaviour folder (Forwarding,
// Balancing, Health, Http, Stats) builds on, so every file of the worker sees them.
global using Proxy.Worker.Runtime;
