"""A stand-in for Tencent Cloud FaceID: the SDK's signed API and a hosted liveness page."""
