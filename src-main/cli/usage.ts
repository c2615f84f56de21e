/** The text of `mocoop --help`. Kept free of imports so help prints without loading anything. */
export const USAGE = `Usage: mocoop <command> [options]

  project create <file> [--name NAME] [--json]     create a project file (.mocoop)
  import <file> --folder DIR [--json]              import an image folder (one sub-folder per class)
  import <file> --csv FILE [--json]                import a CSV of path,label
  import <file> --coop-split FILE --image-root DIR [--json]
                                                   import a CoOp/Dassl split JSON (keeps train/val/test)
  import <file> --files PATH [--files PATH ...]    import loose files or folders without labels
  import <file> --label-studio FILE [--image-root DIR]
                                                   import a Label Studio JSON export (choices of image tasks;
                                                   local-files/upload URLs read from DIR, default the JSON's folder)
  import <file> ... [--test-percent P] [--val-percent P] [--split-seed S]
                                                   split on import: a stratified random hold-out per class
                                                   (images the source puts in val/test stay there)
  info <file> --json                               classes with image counts, totals, problems
  export-labels <file> --format csv|coop|labelstudio|imagefolder --out PATH [--include-unlabeled]
        [--link copy|symlink|hardlink] [--by-split] [--overwrite] [--json]
                                                   save the labels: CSV (path,label,split), CoOp split JSON, Label Studio
                                                   JSON, or an ImageFolder (one folder per class, copies or links;
                                                   --by-split: train/val/test folders); never replaces an existing
                                                   file or folder without --overwrite
  serve [--port N] [--project FILE] [--json]       web mode on 127.0.0.1 (prints the access link)

  tokenize --model DIR [--json] TEXT...            CLIP token ids (77 per text)
  embed-text --model DIR [--json] TEXT...          L2-normalised projected text embeddings
  embed-image --model DIR [--json] FILE...         L2-normalised projected image embeddings
  models list [--json]                             installed CLIP models
  models download [REPO] [--json]                  download from the HuggingFace hub (default openai/clip-vit-base-patch16)
  models import DIR [--name NAME] [--json]         register a CLIP folder from disk
  zeroshot <file> --model DIR|ID [--templates SET | --template T ...] [--split S] [--json]
                                                   zero-shot accuracy over the labeled images
  templates <file> --import FILE | --export FILE   template groups as {"groups": [{"name", "templates": [...]}]}
  fewshot <file> --k N --seed S [--base-new] [--json]
                                                   sample a seeded few-shot set from the labeled train pool
  train <file> --model DIR|ID [--method mocoop|mocoop-no-gate|mocoop-no-text|mocoop-moe|mocoop-gate|mocoop-text|coop|kgcoop|cocoop|zeroshot|linear-probe]
        [--preset paper|released-code] [--schedule lasp-25|lasp-50|lasp-300|batch1-10|coop|kgcoop|cocoop]
        [--k-experts K] [--epochs N] [--batch-size B] [--lr X] [--seed S] [--set ID] [--augment fresh|pool|off] [--views N]
        [--lambda1 X] [--lambda2 X] [--lambda-kg X] [--tau-ce T] [--tau-gate T] [--tau-text T] [--json]
                                                   --schedule: published epochs/warm-up/lr/batch (default lasp-25; CoOp, KgCoOp, CoCoOp: their own);
                                                   --augment: fresh views every step (default on a GPU) or a pool of
                                                   --views N per image encoded once (default on the CPU, 8 views)
                                                   --epochs, --lr, --batch-size override it
  train <file> ... --seeds 1,2,3 [--json]          one run per seed (each on the set sampled with that seed, as Dassl),
                                                   then mean ± std per metric (JSON: a final {"event":"seeds",...})
  train <file> --resume RUN [--json]               continue a stopped or killed run from its last checkpoint
  train <file> --rerun RUN [--json]                train again with every setting of RUN (same seed: same numbers)
  runs <file> [--json]                             every run with its method, status, accuracy and H
                                                   JSON lines: one {"event":"step",...} per step, then {"event":"done","run":ID}
  eval <file> --run ID [--model DIR|ID] [--json]   accuracy, base/new/H, per class on the test split
  report <file> --run ID --out DIR [--json]        report.html, metrics.json and predictions.csv
  export <file> --run ID --out DIR [--json]        trained experts as safetensors + manifest.json
  import-experts <file> --from DIR [--json]        add exported experts to a project as a run
  eval <file> --run ID --on OTHER.mocoop [--json]  domain shift: evaluate on another project's images
  eval <file> --run ID [--on OTHER.mocoop] --classes-from NAMES.mocoop [--json]
                                                   score exactly NAMES' class names: classes the run lacks are encoded
                                                   through its learned experts (a derived table; the run is unchanged)
  reproduce --data ROOT --model DIR|ID --out DIR [--datasets A,B] [--methods mocoop,coop,kgcoop]
        [--seeds 1,2,3] [--shots 16] [--augment fresh|pool|off] [--epochs N] [--paper FILE] [--json]
                                                   base-to-new for CoOp-layout data sets under ROOT (split_zhou_*.json + images),
                                                   every data set × method × seed with the published settings; resumable
  backends [--backend B] [--json]                  which engine runs the encoders and training here (ONNX Runtime provider, WebGPU adapter, tfjs)
  Compute options: --backend auto|tensorflow-gpu|tensorflow|wasm|cpu (tfjs, losses); MOCOOP_ONNX_PROVIDER=auto|cpu|cuda|webgpu|dml|coreml (encoders)

Common options: --json (machine-readable output), --debug (stack traces)`;
