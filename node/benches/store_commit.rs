//! Durable commits per second with group commit: N concurrent writers each
//! committing small batches; every commit returns only once on disk.
//!
//! cargo bench -p concord-node --bench store_commit

use std::time::Instant;

use concord_node::store::Store;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut g = c.benchmark_group("store_commit");
    g.sample_size(10);
    for writers in [1usize, 16, 64] {
        g.throughput(Throughput::Elements(writers as u64));
        g.bench_function(format!("{writers} concurrent durable commits"), |b| {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            let tree = store.tree::<Vec<u8>>("bench").unwrap();
            let mut n = 0u64;
            b.iter_custom(|iters| {
                let start = Instant::now();
                rt.block_on(async {
                    for _ in 0..iters {
                        let mut tasks = Vec::new();
                        for _ in 0..writers {
                            n += 1;
                            let (store, tree, key) = (store.clone(), tree.clone(), n.to_be_bytes());
                            tasks.push(tokio::spawn(async move {
                                let mut batch = store.batch();
                                batch.put(&tree, key, &vec![7u8; 256]).unwrap();
                                store.commit(batch).await.unwrap();
                            }));
                        }
                        for t in tasks {
                            t.await.unwrap();
                        }
                    }
                });
                start.elapsed()
            });
            let stats = store.stats();
            eprintln!(
                "  {writers} writers: {} durable writes in {} flushes",
                stats.durable_writes, stats.flushes
            );
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
