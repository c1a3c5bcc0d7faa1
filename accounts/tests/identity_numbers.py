"""ID numbers that make the FaceID simulator answer one way (sandboxes/faceid/README.md)."""

MATCH = "110105199003071239"  # any other valid number matches too
MISMATCH = "110105199003079900"  # sequence 990: the name and number do not match
NOT_FOUND = "110105199003079919"  # 991: the authority holds no such number
DOWN = "110105199003079927"  # 992: the provider answers 503
SLOW = "110105199003079935"  # 993: the provider answers after the client's timeout
FACE_FAILS = "110105199003079943"  # 994: the identity matches, the face does not (similarity 38.5)
