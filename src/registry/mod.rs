//! Publishing: registry credentials as the Docker CLI finds them ([`credentials`]), every tag of a built image
//! pushed through the engine with the digest the registry stored ([`push`]; the cache images of `--cache-to`
//! are builds of the plan pushed the same way), and the OCI image index of an image built for several platforms
//! put straight into the registry ([`index`], [`platforms`]); `--output`'s OCI image layout of the built images,
//! normalised so that the same commit gives the same digests ([`layout`]).
//!
//! Takes what the engine built and gives [`crate::events`]: push and index outcomes. Runs on top of the engine
//! module (pushes go through the engine that built the image, which holds it); the index goes to the registry
//! directly, through `oci-client`, since Engine 20.10 cannot push one. With the engine, the only module that
//! knows bollard's types; credentials leave it only as the opaque [`credentials::Credentials`].

pub mod credentials;
pub mod index;
pub mod layout;
pub mod pin;
pub mod platforms;
pub mod push;
pub mod referrers;
