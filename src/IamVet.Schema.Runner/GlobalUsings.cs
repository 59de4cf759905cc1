// The runner's own namespaces and the few framework ones nearly every file uses. Npgsql is not
// here on purpose: only the database layer and the stages that run SQL name it (Cli/ never does,
// which ArchitectureTests checks).
global using System.Globalization;
global using System.Text.Json.Nodes;
global using IamVet.Schema.Runner.Audit;
global using IamVet.Schema.Runner.Backup;
global using IamVet.Schema.Runner.Configuration;
global using IamVet.Schema.Runner.Engine;
global using IamVet.Schema.Runner.Operations;
global using IamVet.Schema.Runner.Pipeline;
global using IamVet.Schema.Runner.Pipeline.Reporting;
global using IamVet.Schema.Runner.Pipeline.Stages;
global using IamVet.Schema.Runner.Postgres;
global using IamVet.Schema.Runner.Verification;
global using Microsoft.Extensions.Logging;
