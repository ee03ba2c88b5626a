"""Training and evaluation of the default tools' models on the world (downstream of both).

The default tools and their models live in ``vidagent.tools``; the world (videos, ground truth,
questions) lives in ``vidagent.tasks.world``. Fitting the models to the world needs both, so it lives here,
where the arrows allow it (``tasks`` may import ``tools``, never the other way round):

- ``vidagent.tasks.toolfit.data``            ``WorldVideo`` (a video file + its ``GroundTruth``), ``load_videos``
- ``vidagent.tasks.toolfit.train_detector``  YOLO11n on world frames -> ``tools/weights/detector.pt``
- ``vidagent.tasks.toolfit.train_action``    the action model on world clips -> ``tools/weights/action.safetensors``
- ``vidagent.tasks.toolfit.train_clip``      the tiny open_clip grounder -> ``tools/weights/clip.safetensors``
- ``vidagent.tasks.toolfit.evaluate``        ``vidagent eval tools``: the tools' accuracy on held-out videos
- ``vidagent.tasks.toolfit.cli``             ``vidagent train detector|action|clip``
"""
