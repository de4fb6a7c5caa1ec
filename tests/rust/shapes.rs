//! Runs inside the crate generated from `tests/fixtures/rust/shapes.yaml`
//! (see `tests/rust_client.rs`): the generated types read and write the
//! JSON their schemas describe.

use serde_json::{Value, json};
use shapes::types::*;

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: Value) -> T {
    let typed: T = serde_json::from_value(value.clone()).expect("the JSON reads as its type");
    assert_eq!(serde_json::to_value(&typed).unwrap(), value, "written back unchanged");
    typed
}

#[test]
fn a_discriminated_union_dispatches_on_its_property() {
    let dog: ShapesPet = round_trip(json!({ "petType": "dog", "bark": "in-between" }));
    assert!(matches!(dog, ShapesPet::Dog(ShapesDog { bark: ShapesDogBark::InBetween, .. })));
    // `cat` is mapped by the bare schema name.
    let cat: ShapesPet = round_trip(json!({ "petType": "cat", "lives": 9 }));
    assert!(matches!(cat, ShapesPet::Cat(ShapesCat { lives: 9, .. })));
    let unknown = serde_json::from_value::<ShapesPet>(json!({ "petType": "cow", "lives": 1 }));
    assert!(unknown.unwrap_err().to_string().contains("petType"));
    // The tag decides, not the first variant that fits: an untagged enum
    // would read this as a dog.
    let tagged: ShapesPet =
        serde_json::from_value(json!({ "petType": "cat", "lives": 9, "bark": "loud" })).unwrap();
    assert!(matches!(tagged, ShapesPet::Cat(_)), "{tagged:?}");
    // A cat's fields under a dog's tag do not read.
    assert!(serde_json::from_value::<ShapesPet>(json!({ "petType": "dog", "lives": 9 })).is_err());
    assert!(serde_json::from_value::<ShapesDogBark>(json!("quiet")).is_err());
}

#[test]
fn the_rest_of_the_shapes_read_and_write_back() {
    let zoo: ShapesZoo = round_trip(json!({
        "pets": [{ "petType": "cat", "lives": 3 }],
        "keeper": { "name": "Ada", "since": "2020-01-01" },
        "tree": { "value": 1, "children": [{ "value": 2, "parent": { "value": 1 } }] },
        "nested": [[], [[]]],
        "label": 7,
        "code": "A1",
        "counts": { "a": 1, "b": 2 },
        "extra": { "anything": [true] },
        "@type": "zoo",
        "self": true,
        "X-Rate": 0.5,
    }));
    assert_eq!(zoo.keeper.part0.name, "Ada");
    assert_eq!(zoo.keeper.part1.since.as_deref(), Some("2020-01-01"));
    assert_eq!(zoo.label, Some(ShapesZooLabel::Integer(7)));
    assert_eq!(zoo.code, Some(ShapesZooCode::String("A1".to_owned())));
    let tree = zoo.tree.expect("a tree");
    let child = &tree.children.as_ref().expect("children")[0];
    assert_eq!(child.parent.as_ref().map(|p| p.value), Some(1));
    assert_eq!(zoo.nested.map(|n| n.0.len()), Some(2));
    assert_eq!(zoo.r#type.as_deref(), Some("zoo"));
    assert_eq!(zoo.self_, Some(true));
    assert_eq!(zoo.x_rate, Some(0.5));

    // `null` where the schema allows it; a missing required field is an error.
    let with_null: ShapesZoo =
        serde_json::from_value(json!({ "pets": [], "keeper": { "name": "B" }, "motto": null }))
            .unwrap();
    assert_eq!(with_null.motto, None);
    assert!(serde_json::from_value::<ShapesZoo>(json!({ "pets": [] })).is_err());
}
