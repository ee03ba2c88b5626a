"""COCO's object classes as the real-footage detector names them, and the words users say for them.

``COCO_CLASSES`` are the 80 detection classes; ``SSD_IDS`` maps the TF object-detection zoo's 90-id label
map (what SSD-MobileNetV2 outputs; ids 12, 26, 29, 30, 45, 66, 68, 69, 71 and 83 are unused) to them.
``CLASS_ALIASES`` are everyday words for a class whose COCO name users would not guess ("ball" is "sports
ball", "phone" is "cell phone"); plain word forms and synonyms ("people", "bikes", "automobile") come from
the project's one synonym table, ``vidagent.words``.
"""

from __future__ import annotations

COCO_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)
_UNUSED_SSD_IDS = frozenset({12, 26, 29, 30, 45, 66, 68, 69, 71, 83})
SSD_IDS: dict[int, str] = dict(zip((i for i in range(1, 91) if i not in _UNUSED_SSD_IDS), COCO_CLASSES, strict=True))

CLASS_ALIASES: dict[str, str] = {
    "ball": "sports ball", "football": "sports ball", "soccer ball": "sports ball", "basketball": "sports ball",
    "phone": "cell phone", "cellphone": "cell phone", "mobile phone": "cell phone", "smartphone": "cell phone",
    "mobile": "cell phone",
    "table": "dining table", "desk": "dining table", "plant": "potted plant", "flower pot": "potted plant",
    "television": "tv", "tv set": "tv", "monitor": "tv",
    "motorbike": "motorcycle", "scooter": "motorcycle", "moped": "motorcycle",
    "plane": "airplane", "aeroplane": "airplane", "jet": "airplane", "aircraft": "airplane",
    "lorry": "truck", "van": "truck", "pickup": "truck", "ship": "boat", "sailboat": "boat",
    "tram": "train", "streetcar": "train", "trolley": "train",
    "kitten": "cat", "kitty": "cat", "pony": "horse", "lamb": "sheep", "cattle": "cow", "calf": "cow",
    "sofa": "couch", "mug": "cup", "glass": "wine glass", "fridge": "refrigerator", "bag": "handbag",
    "purse": "handbag", "rucksack": "backpack", "luggage": "suitcase", "racket": "tennis racket",
    "bat": "baseball bat", "glove": "baseball glove", "teddy": "teddy bear", "hairdryer": "hair drier",
    "hair dryer": "hair drier", "doughnut": "donut", "laptop computer": "laptop", "notebook": "laptop",
    "traffic signal": "traffic light", "stoplight": "traffic light", "hydrant": "fire hydrant",
    "necktie": "tie", "remote control": "remote",
    "parrot": "bird", "cockatoo": "bird", "pigeon": "bird", "duck": "bird", "goose": "bird", "chicken": "bird",
}
