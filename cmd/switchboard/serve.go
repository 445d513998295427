package main

import (
	"context"

	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/switchboard/switchboard/connectors"
	connectorcatalog "github.com/switchboard/switchboard/connectors/catalog"
	"github.com/switchboard/switchboard/handlers"
	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
)

type role int

const (
	roleServe  role = iota // web + workers, migrates first
	roleWeb                // web only
	roleWorker             // workers only
)

// Shutdown budget: stop taking requests and jobs, let in-flight ones finish for
// softStop, then cancel what is still running.
const (
	httpShutdown = 10 * time.Second
	softStop     = 20 * time.Second
	hardStop     = 10 * time.Second
)

func serve(ctx context.Context, cfg config, stderr io.Writer, r role) error {
	log := newLogger(stderr, cfg.LogLevel)
	maxConns := int32(20 + cfg.Workers/4)
	db, err := openDatabase(ctx, cfg, maxConns, log)
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		db.Close(ctx)
	}()
	if r == roleServe {
		if err := store.Migrate(ctx, db.Pool); err != nil {
			return err
		}
	} else if err := store.SchemaCurrent(ctx, db.Pool); err != nil {
		return err
	}
	key, err := secretKey(cfg, log)
	if err != nil {
		return err
	}
	sealer, err := store.NewSealer(key, cfg.OldSecretKeys...)
	if err != nil {
		return err
	}

	catalog := connectorcatalog.NewWithEgress(cfg.EgressAllow)
	httpClient := connectors.NewHTTPClient(connectors.EgressOptions{Allow: cfg.EgressAllow})
	engine := jobs.NewEngine(jobs.EngineDeps{
		Pool: db.Pool, Catalog: catalog, HTTP: httpClient, Logger: log,
		OpenConnection: jobs.StoreConnections(db.Pool, sealer),
		Metrics:        jobs.NewMetrics(),
	})
	workers := cfg.Workers
	if r == roleWeb {
		workers = 0
	}
	rc, err := jobs.NewClient(jobs.Config{Workers: workers, Logger: log, RescueStuckJobsAfter: cfg.RescueAfter, RunRetention: cfg.RunRetention},
		jobs.Deps{Pool: db.Pool, Engine: engine})
	if err != nil {
		return err
	}
	if workers > 0 {
		if err := rc.Start(ctx); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		log.Info("workers started", "concurrency", workers)
	}

	errc := make(chan error, 1)
	var app interface {
		Listener(net.Listener) error
		ShutdownWithTimeout(time.Duration) error
	}
	if r != roleWorker {
		f := handlers.New(handlers.Deps{
			Pool:    db.Pool,
			River:   rc,
			Engine:  engine,
			Catalog: catalog,
			HTTP:    httpClient,
			Sealer:  sealer,
			Logger:  log,
			BaseURL: cfg.BaseURL,
			MaxBody: cfg.MaxBody,
			Ready:   func(ctx context.Context) error { return store.SchemaCurrent(ctx, db.Pool) },
			// A flow changed by another `web` process reaches this one's
			// ingest within a second; changes made here, at once.
			FlowCacheTTL: time.Second,
		})
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("SWITCHBOARD_ADDR %s: %w", cfg.Addr, err)
		}
		app = f
		log.Info("listening", "addr", ln.Addr().String(), "url", cfg.BaseURL)
		go func() { errc <- f.Listener(ln) }()
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("http server: %w", err)
		}
	}
	var errs []error
	if app != nil {
		errs = append(errs, app.ShutdownWithTimeout(httpShutdown))
	}
	if workers > 0 {
		softCtx, cancel := context.WithTimeout(context.Background(), softStop)
		err := rc.Stop(softCtx)
		cancel()
		if err != nil {
			log.Warn("workers did not finish in time; cancelling them", "err", err)
			hardCtx, cancel := context.WithTimeout(context.Background(), hardStop)
			errs = append(errs, rc.StopAndCancel(hardCtx))
			cancel()
		}
	}
	return errors.Join(errs...)
}
