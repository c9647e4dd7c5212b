"""Learning: the traffic simulator, the training pipeline and the evaluation of the model.

Needs the ``ml`` extra (scikit-learn, NumPy); serving needs none of it.
"""
