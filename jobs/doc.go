// Package jobs holds the River workers and their job args: executing a step,
// advancing a run's DAG, schedules and pruning.
//
// To add a job kind: write jobs/<kind>.go with an args type (ids only — River
// stores args as plain JSON, so never secrets), whose Kind() is snake_case and
// never renamed, and a worker embedding river.WorkerDefaults; then register it in
// jobs/workers.go. A worker writes its results and completes its own job in one
// transaction (river.JobCompleteTx).
package jobs
